# Numerical engine, training, CLI and oracle tests.

jn_c_test(test_gradients SOURCES test_gradients.c F64 LABELS engine)
