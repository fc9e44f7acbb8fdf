// latent/kernels.hpp - the kernel layer: ISA selection, pairwise kernels and the
// batched GEMM path with fused top-k. See the three headers for the contracts.
#pragma once

#include "latent/kernels/batched.hpp"
#include "latent/kernels/isa.hpp"
#include "latent/kernels/pairwise.hpp"
