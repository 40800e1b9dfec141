# Numerical engine, training, CLI and oracle tests.

jn_c_test(test_gradients SOURCES test_gradients.c F64 LABELS engine)
jn_c_test(test_penalty SOURCES test_penalty.c F64 LABELS engine)
jn_py_test(test_training test_training.py LABELS training TIMEOUT 900)

# PyTorch autograd oracle (float64) for one step of every penalty target and estimator.
jn_py_test(test_torch_oracle torch_oracle.py LABELS oracle)
jn_c_test(test_gemm SOURCES test_gemm.c LABELS engine)
jn_py_test(test_cli test_cli.py LABELS cli TIMEOUT 600)
jn_py_test(test_reliability test_reliability.py LABELS reliability TIMEOUT 900)
