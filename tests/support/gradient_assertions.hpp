// require_passes(result): a gradient check that must pass, reporting the worst
// derivative, its error and how many were checked when it does not.
#pragma once

#include <catch2/catch.hpp>

#include <xgan/testing/gradient_check.hpp>

namespace tests {

inline void require_passes(const xgan::GradientCheckResult& result) {
    INFO("worst: " << result.worst << " (error " << result.max_error << ", " << result.checked << " derivatives)");
    CHECK(result.checked > 0);
    REQUIRE(result.passed);
}

}  // namespace tests
