# Harness self-test: a failing check must fail the scenario.
pass a-passing-check
check_eq deliberately-failing-check 1 2
exit 0
