/* target.c — libFuzzer entry point for the policy parser and evaluator
 * (input format and checks in stream.c). Built as a fuzzer with -Dfuzz=true
 * and, always, as a replay test over corpus/.
 *
 * Must never: keep state between inputs. */
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bh_fuzz_policy_result res;

    bh_fuzz_policy_run(data, size, &res);
    return 0;
}
