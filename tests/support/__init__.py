"""Test helpers: fakes of the port and runtime, and ready-built communities (not shipped with the bot)."""
