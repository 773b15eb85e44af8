"""segscore.predict."""
