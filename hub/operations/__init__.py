"""Domain rules of the records the operators and providers work with."""
