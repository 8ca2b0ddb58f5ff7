"""The toolbox's commands, one module per area; importing a module declares its commands on the
feature (``toolbox/plugin.py`` imports them in the order ``!help`` lists them)."""
