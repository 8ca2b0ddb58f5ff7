"""How much one person may keep, so one account cannot grow without bound."""

from __future__ import annotations

TEXT_MAX = 500  # a goal, step, activity, note, crisis-plan line
DIARY_MAX = 2000
NAME_MAX = 80  # a name in the network, a medication name or dose

MAX_GOALS = 200
MAX_STEPS_PER_GOAL = 50
MAX_OPEN_ACTIVITIES = 200
MAX_CONTACTS = 200
MAX_CRISIS_ITEMS_PER_SECTION = 30
MAX_MEDS = 50
MAX_MED_TIMES = 8
