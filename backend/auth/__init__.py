"""Who is asking, and what they may do: accounts, sessions, API tokens, the checks at
the edge of every request (`guard.py`), and the rules they use, each in its own module."""
