print("pack-bench: not yet")
