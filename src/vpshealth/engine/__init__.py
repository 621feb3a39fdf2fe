"""Scheduling polls, turning collected data into results, and recording them."""
