"""Flags as monitors read and handle them: ``render`` says a flag's facts for one reader."""
