# Harness self-test: a module that WARNs must fail the scenario even though
# every check the scenario reports passes.
check load-warning-module modprobe rswap_selftest mode=warn
check unload-warning-module rmmod rswap_selftest
