# Harness self-test: a NULL dereference in a module must fail the scenario.
modprobe rswap_selftest mode=oops
pass survived-oops
