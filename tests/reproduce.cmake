# The paper's table: tools/reproduce.py at its smoke budget (every data set and row, tiny models).
jn_py_test(test_reproduce test_reproduce.py LABELS reproduce TIMEOUT 900)
