// Time spent in cblas_sgemm so far, in xgan_bench_product_clock (product_clock.cpp).
#pragma once

namespace bench {
struct ProductClock {
    double seconds;
    long calls;
};
ProductClock product_clock();
}  // namespace bench
