/* stream.h — one fuzz input through the policy engine, with its invariants.
 *
 * Owns: the input format (the bytes of one policy file) and the checks that
 * must hold for any input: every problem is "path:line:column: what" with a
 * line inside the file, a file with a problem denies every request, and a
 * clean file gives only well-formed decisions. A broken invariant aborts.
 * Must never: keep state between inputs. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct bh_fuzz_policy_result {
    unsigned rules;
    unsigned errors;
};

void bh_fuzz_policy_run(const uint8_t *data, size_t size, struct bh_fuzz_policy_result *res);
