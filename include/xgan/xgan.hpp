// xgan: compile-time GAN architectures on xtensor. Include this for networks, losses,
// optimizers and the trainer: it needs nothing beyond xtensor, xtensor-blas and BLAS.
// Datasets, checkpoints, plots and pictures are in <xgan/io.hpp>.
#pragma once

#include <xgan/version.hpp>
#include <xgan/config.hpp>

#include <xgan/core/conditional.hpp>
#include <xgan/core/layer.hpp>
#include <xgan/core/mt19937_64.hpp>
#include <xgan/core/random.hpp>
#include <xgan/core/second_order.hpp>
#include <xgan/core/sequential.hpp>
#include <xgan/core/shape.hpp>
#include <xgan/core/summary.hpp>
#include <xgan/core/tensor.hpp>
#include <xgan/core/threads.hpp>

#include <xgan/init/initializers.hpp>

#include <xgan/layers/activation.hpp>
#include <xgan/layers/batch_norm.hpp>
#include <xgan/layers/conv2d.hpp>
#include <xgan/layers/conv_transpose2d.hpp>
#include <xgan/layers/dense.hpp>
#include <xgan/layers/dropout.hpp>
#include <xgan/layers/embedding.hpp>
#include <xgan/layers/layer_norm.hpp>
#include <xgan/layers/leaky_relu.hpp>
#include <xgan/layers/pool2d.hpp>
#include <xgan/layers/relu.hpp>
#include <xgan/layers/reshape.hpp>
#include <xgan/layers/sigmoid.hpp>
#include <xgan/layers/spectral_norm.hpp>
#include <xgan/layers/tanh.hpp>
#include <xgan/layers/upsample.hpp>

#include <xgan/losses/critic_batches.hpp>
#include <xgan/losses/gradient_penalty_losses.hpp>
#include <xgan/losses/hinge.hpp>
#include <xgan/losses/least_squares.hpp>
#include <xgan/losses/logistic.hpp>
#include <xgan/losses/loss.hpp>
#include <xgan/losses/minimax.hpp>
#include <xgan/losses/non_saturating.hpp>
#include <xgan/losses/objective.hpp>
#include <xgan/losses/wasserstein.hpp>

#include <xgan/optim/adam.hpp>
#include <xgan/optim/optimizer.hpp>
#include <xgan/optim/rmsprop.hpp>
#include <xgan/optim/sgd.hpp>

#include <xgan/train/gradient_penalty.hpp>
#include <xgan/train/step_stats.hpp>
#include <xgan/train/trainer.hpp>

#include <xgan/testing/gradient_check.hpp>
