# Sweeps: the spec, groups of models against solo runs, shards, kills, a real Slurm, and the rows readers report.
jn_py_test(test_sweep test_sweep.py LABELS sweep TIMEOUT 1800)
jn_py_test(test_sweep_slurm test_sweep_slurm.py LABELS sweep slurm TIMEOUT 900)
jn_py_test(test_sweep_odd_fs test_sweep_odd_fs.py LABELS sweep TIMEOUT 300)
jn_py_test(test_sweep_rows test_sweep_rows.py LABELS sweep TIMEOUT 300)
