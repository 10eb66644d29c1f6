# Harness self-test: a guest that never finishes must be killed at its time
# limit and reported as a failure with the tail of its console.
# vm-timeout: 25
pass started
echo "selftest-hang: sleeping forever"
sleep 100000
