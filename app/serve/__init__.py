"""The run's view in a browser (`hiphook serve`, `hiphook run --serve`): see server.py."""
