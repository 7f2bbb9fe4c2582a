"""How long after a camera comes back does recording resume? See __main__."""
