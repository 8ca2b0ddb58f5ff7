"""The schedules feature's commands, one module per area; importing a module declares its
commands (and observers) on the feature (``schedules/plugin.py`` imports them in ``!help`` order)."""
