"""The daily reminder: settings, schedule, notifications, the scheduler and login service.

Modules: schedule (pure parsing and next fire time), notify (desktop/terminal delivery),
store (settings in the session log's database), daemon (`hiphook remind run`), inapp
(the TUI's hook: in-app notifications while the coach is open), service (systemd /
launchd files) and cli (`hiphook remind ...`). Nothing heavy is imported here.
"""
