"""Shared code for the IMDB sentiment DVC pipeline."""
