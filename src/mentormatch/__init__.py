"""mentormatch: optimal, explained and fair mentor-mentee pairing."""
