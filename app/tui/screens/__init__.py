"""The coach's screens; each owns its keys and behaviour, and posts messages for the flow."""
