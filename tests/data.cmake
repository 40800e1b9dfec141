# Data tests: the loaders on the real MNIST / USPS files in $JACNOISE_DATA and on small malformed
# files, what a run says about its data, and the set-up script and fetch.sh (offline).
jn_c_test(test_data_real SOURCES test_data_real.c LABELS data)
jn_c_test(test_data_malformed SOURCES test_data_malformed.c LABELS data)
jn_py_test(test_data_classes test_data_classes.py LABELS data)
jn_py_test(test_setup test_setup.py LABELS setup)
