"""Real-time dispatch hub for roadside assistance."""
