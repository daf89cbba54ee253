#!/usr/bin/python3
# Golden values for tests/metrics/test_metrics.cpp, computed with NumPy and SciPy
# (Debian's python3-numpy and python3-scipy).
#
# Regenerate (from anywhere; the files land in tests/metrics/data/ next to this script):
#
#     /usr/bin/python3 tests/metrics/generate.py
#
# SciPy is needed only to REGENERATE these files, never to build or run the tests. The
# output is deterministic (fixed seeds). Format: as tests/golden/generate.py's (read by
# tests/golden/golden_data.hpp): "# name rows cols", then rows of float64 repr()s.
#
# frechet.txt  Frechet distances as pytorch-fid computes them (numpy.cov, the trace of
#              scipy.linalg.sqrtm(C1 @ C2), its real part; the eps offset retry if the
#              root is not finite), with the means and covariances:
#                random    a {200, 5} and b {150, 5}, different means and covariances
#                singular  a {300, 6} whose column 5 is a combination of the others plus
#                          noise of std 1e-6 (near-singular C1); b {250, 6} of full rank
#                fewer     a {5, 8}: fewer samples than dimensions (C1 of rank 4), b {40, 8}
#                same      a against a copy of itself (distance 0)
#              and each distance computed exactly ("NAME.exact", correctly rounded): the
#              covariances from the same float64 data and the eigenvalues of C1 C2 in
#              60-digit arithmetic (mpmath, Debian's python3-mpmath), where the square roots
#              of eigenvalues near 0 lose no digits to rounding.
# ks.txt       scipy.stats.kstest(x, cdf).statistic (two-sided, exact D):
#                normal_shifted  500 draws of N(0.3, 1.2^2) against N(0, 1)
#                normal_fit      the same draws against N(0.3, 1.2^2)
#                uniform         200 draws of U(0, 1) against U(0, 1)
#                single          one sample, 0.25, against N(0, 1)
import os

import mpmath
import numpy as np
import scipy.linalg
import scipy.stats

HERE = os.path.dirname(os.path.abspath(__file__))


def write_block(out, name, values):
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    out.write(f"# {name} {values.shape[0]} {values.shape[1]}\n")
    for row in values:
        out.write(" ".join(repr(float(v)) for v in row) + "\n")


def frechet(a, b):
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    c1, c2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = scipy.linalg.sqrtm(c1.dot(c2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(c1.shape[0]) * 1e-6
        covmean = scipy.linalg.sqrtm((c1 + offset).dot(c2 + offset))
    covmean = covmean.real
    diff = mu1 - mu2
    return diff.dot(diff) + np.trace(c1) + np.trace(c2) - 2 * np.trace(covmean), mu1, mu2, c1, c2


def frechet_exact(a, b):
    mpmath.mp.dps = 60

    def stats(x):
        n, d = x.shape
        m = mpmath.matrix(x.tolist())
        mean = [mpmath.fsum(m[i, j] for i in range(n)) / n for j in range(d)]
        cov = mpmath.matrix(d, d)
        for j in range(d):
            for k in range(d):
                cov[j, k] = mpmath.fsum((m[i, j] - mean[j]) * (m[i, k] - mean[k]) for i in range(n)) / (n - 1)
        return mean, cov

    mu1, c1 = stats(a)
    mu2, c2 = stats(b)
    eigenvalues = mpmath.eig(c1 * c2, left=False, right=False)
    root = mpmath.fsum(mpmath.sqrt(max(mpmath.re(e), 0)) for e in eigenvalues)
    d = len(mu1)
    value = (mpmath.fsum((mu1[j] - mu2[j]) ** 2 for j in range(d)) + mpmath.fsum(c1[j, j] + c2[j, j] for j in range(d))
             - 2 * root)
    return float(value)


def frechet_cases(out):
    rng = np.random.default_rng(17)
    cases = {}
    mix = rng.normal(size=(5, 5))
    cases["random"] = (rng.normal(size=(200, 5)) @ mix, rng.normal(0.5, 1.5, size=(150, 5)))
    a = rng.normal(size=(300, 6))
    a[:, 5] = a[:, :5] @ np.array([0.5, -1.0, 2.0, 0.25, 1.5]) + rng.normal(0, 1e-6, size=300)
    cases["singular"] = (a, rng.normal(size=(250, 6)) @ rng.normal(size=(6, 6)))
    cases["fewer"] = (rng.normal(size=(5, 8)), rng.normal(0.2, 1.0, size=(40, 8)))
    same = rng.normal(size=(100, 4)) @ rng.normal(size=(4, 4))
    cases["same"] = (same, same.copy())
    for name, (a, b) in cases.items():
        d, mu1, mu2, c1, c2 = frechet(a, b)
        write_block(out, f"{name}.a", a)
        write_block(out, f"{name}.b", b)
        write_block(out, f"{name}.mean_a", mu1)
        write_block(out, f"{name}.cov_a", c1)
        write_block(out, f"{name}.distance", [d])
        write_block(out, f"{name}.exact", [frechet_exact(a, b)])


def ks_cases(out):
    rng = np.random.default_rng(5)
    x = rng.normal(0.3, 1.2, size=500)
    u = rng.uniform(size=200)
    cases = {
        "normal_shifted": (x, scipy.stats.kstest(x, "norm").statistic),
        "normal_fit": (x, scipy.stats.kstest(x, "norm", args=(0.3, 1.2)).statistic),
        "uniform": (u, scipy.stats.kstest(u, "uniform").statistic),
        "single": (np.array([0.25]), scipy.stats.kstest([0.25], "norm").statistic),
    }
    for name, (samples, statistic) in cases.items():
        write_block(out, f"{name}.x", samples)
        write_block(out, f"{name}.statistic", [statistic])


def main():
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    header = "## generated by tests/metrics/generate.py (NumPy {}, SciPy {}, mpmath {}); do not edit\n".format(
        np.__version__, scipy.__version__, mpmath.__version__)
    with open(os.path.join(HERE, "data", "frechet.txt"), "w") as out:
        out.write(header)
        frechet_cases(out)
    with open(os.path.join(HERE, "data", "ks.txt"), "w") as out:
        out.write(header)
        ks_cases(out)


if __name__ == "__main__":
    main()
