"""What every run writes: results files written atomically, with their provenance (command, hardware, versions)."""
