# Data loader tests: the real MNIST / USPS files in $JACNOISE_DATA, and small malformed files.
jn_c_test(test_data_real SOURCES test_data_real.c LABELS data)
jn_c_test(test_data_malformed SOURCES test_data_malformed.c LABELS data)
jn_py_test(test_data_classes test_data_classes.py LABELS data)
