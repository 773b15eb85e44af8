"""segscore.data."""
