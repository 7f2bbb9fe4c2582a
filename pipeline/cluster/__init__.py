"""Who runs where among the `runworkers` hosts sharing one database: host identity, camera
leases, shares, and fencing when leases cannot be renewed."""
