// xgan's input and output: toy data, datasets, checkpoints, plots, pictures, logs and
// progress. Besides xtensor, these headers need zlib's, libzip's and stb's headers;
// a program links those libraries only if it calls what uses them. <xgan/xgan.hpp>
// has the networks and the trainer.
#pragma once

#include <xgan/io/architecture.hpp>
#include <xgan/io/checkpoint.hpp>
#include <xgan/io/csv_log.hpp>
#include <xgan/io/export_header.hpp>
#include <xgan/io/idx.hpp>
#include <xgan/io/image_dataset.hpp>
#include <xgan/io/image_grid.hpp>
#include <xgan/io/npy.hpp>
#include <xgan/io/npz.hpp>
#include <xgan/io/paintings.hpp>
#include <xgan/io/png.hpp>
#include <xgan/io/png_plot.hpp>
#include <xgan/io/progress.hpp>
#include <xgan/io/svg_plot.hpp>
#include <xgan/io/training_plot.hpp>
