"""segscore.train."""
