"""The community's commands, one module per area; importing a module declares its commands (and
observers) on the feature (``rooms/plugin.py`` imports them in ``!help`` order)."""
