"""Data from a user's CSV: one reader for files and streams, column picking, labeled data, splits, the data report;
CSV files handed out without formulas (csvwrite)."""
