"""Business operations shared by views, CLI commands and tests.

Functions take the session and the actor explicitly, never read request
globals, and flush but never commit: the request or the command owns the commit.
"""
