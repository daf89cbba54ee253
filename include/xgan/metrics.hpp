// xgan's quality measures: the Frechet distance between feature sets, the Frechet
// classifier distance of Fashion-MNIST images, and for 1-D and 2-D toy data the
// Kolmogorov-Smirnov statistic and mode coverage. The classifier is read from an .npz,
// so this header needs io's libzip (docs/dependencies.md); the other three need only
// xtensor-blas and LAPACK.
#pragma once

#include <xgan/metrics/fashion_classifier.hpp>
#include <xgan/metrics/frechet.hpp>
#include <xgan/metrics/ks_statistic.hpp>
#include <xgan/metrics/mode_coverage.hpp>
