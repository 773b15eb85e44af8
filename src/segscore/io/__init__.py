"""segscore.io."""
