// xgan version; CMake reads these three lines.
#pragma once

#define XGAN_VERSION_MAJOR 0
#define XGAN_VERSION_MINOR 1
#define XGAN_VERSION_PATCH 0
