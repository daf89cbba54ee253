// Checkpoints of an AdversarialTrainer: G, D (parameters and buffers), both optimizers'
// state, the Rng and the step count, in one .npz file that numpy.load reads. Weights use
// PyTorch's nn.Sequential state_dict names and layouts ("generator.0.weight" is the
// {out, in} weight of G's first layer), so they move between xgan and PyTorch.
// Saving is atomic; loading validates everything before it changes anything.
// The format, field by field: docs/reference/io-checkpoint.md.
#pragma once

#include <cmath>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <xgan/config.hpp>
#include <xgan/io/architecture.hpp>
#include <xgan/io/npy.hpp>
#include <xgan/io/npz.hpp>

namespace xgan {

inline constexpr std::string_view checkpoint_format = "xgan checkpoint 1";

// What a checkpoint needs of an optimizer's state beyond xgan::Optimizer: its step count
// and its per-parameter tensors by name (Adam and SGD provide them).
template <class State>
concept checkpointable_optimizer_state = requires(State& state, const State& const_state) {
    { const_state.steps() } -> std::convertible_to<std::uint64_t>;
    state.set_steps(std::uint64_t{});
    state.named_tensors();
    const_state.named_tensors();
};

namespace detail {
template <class Trainer>
constexpr bool check_checkpointable() {
    static_assert(checkpointable_optimizer_state<typename Trainer::generator_optimizer_state> &&
                      checkpointable_optimizer_state<typename Trainer::discriminator_optimizer_state>,
                  "xgan::save_checkpoint / load_checkpoint: an optimizer's state must provide steps(), "
                  "set_steps(n) and named_tensors() (see xgan::checkpointable_optimizer_state)");
    return true;
}
}  // namespace detail

namespace detail {

template <class T>
std::string scalar_name() {
    return std::is_same_v<T, float> ? "float32" : "float64";
}

template <class T>
void add_tensors(npz::writer& out, const std::string& prefix, const auto& named) {
    for (const auto& p : named) out.add(prefix + p.name, p.shape, p.values.data(), p.values.size());
}

template <class State, class T>
void add_optimizer(npz::writer& out, const std::string& prefix, const std::string& type, const State& state) {
    out.add_string(prefix + "type", type);
    const std::uint64_t steps = state.steps();
    out.add(prefix + "step", {}, &steps, 1);
    for (const auto& [name, values] : state.named_tensors())
        out.add(prefix + std::string(name), {values.size()}, values.data(), values.size());
}

inline std::vector<std::uint64_t> engine_words(const Rng& rng) {
    std::stringstream text;
    text << rng.engine();
    std::vector<std::uint64_t> words;
    std::uint64_t word = 0;
    while (text >> word) words.push_back(word);
    return words;
}

// Reads checkpoint entries, checking each against what the program expects.
class checkpoint_reader {
public:
    checkpoint_reader(npz::archive entries, std::string where) : entries_(std::move(entries)), where_(std::move(where)) {}

    const npy::array& entry(const std::string& name) const {
        const auto it = entries_.find(name);
        if (it == entries_.end()) XGAN_THROW(checkpoint_error, where_, ": no entry '", name, "'");
        return it->second;
    }

    std::string text(const std::string& name) const {
        const auto& a = entry(name);
        if (a.dtype.substr(0, 2) != "|S" || !a.shape.empty())
            XGAN_THROW(checkpoint_error, where_, ": entry '", name, "' should be a string, is ", a.dtype);
        std::string value = a.data;
        while (!value.empty() && value.back() == '\0') value.pop_back();  // numpy pads |S with NULs
        return value;
    }

    // Copies entry `name` into `out` after checking its dtype, shape and values.
    template <class U>
    void values(const std::string& name, const std::vector<std::size_t>& shape, std::span<U> out) const {
        const auto& a = entry(name);
        if (a.dtype != npy::dtype_of<U>())
            XGAN_THROW(checkpoint_error, where_, ": entry '", name, "' has dtype ", a.dtype, ", expected ",
                       npy::dtype_of<U>());
        if (a.shape != shape)
            XGAN_THROW(checkpoint_error, where_, ": entry '", name, "' has shape ", npy::detail::shape_text(a.shape),
                       ", expected ", npy::detail::shape_text(shape));
        if (a.data.size() != out.size() * sizeof(U))
            XGAN_THROW(checkpoint_error, where_, ": entry '", name, "' has ", a.data.size(), " bytes, expected ",
                       out.size() * sizeof(U));
        if (!out.empty()) std::memcpy(out.data(), a.data.data(), a.data.size());
        if constexpr (std::is_floating_point_v<U>)
            for (std::size_t i = 0; i < out.size(); ++i)
                if (!std::isfinite(out[i]))
                    XGAN_THROW(checkpoint_error, where_, ": entry '", name, "' holds ", out[i], " at index ", i);
    }

    std::uint64_t scalar(const std::string& name) const {
        std::uint64_t value = 0;
        values(name, {}, std::span<std::uint64_t>(&value, 1));
        return value;
    }

    const std::string& where() const { return where_; }

private:
    npz::archive entries_;
    std::string where_;
};

// Reads a network's parameters and buffers into a copy, leaving `net` untouched on error.
template <class Net>
Net read_network(const checkpoint_reader& in, const std::string& role, const Net& net) {
    const std::string expected = describe<Net>();
    const std::string found = in.text("architecture." + role);
    if (found != expected)
        XGAN_THROW(checkpoint_error, in.where(), ": the checkpoint's ", role, " is ", found, " but this program's ",
                   role, " is ", expected);
    Net copy = net;
    for (const auto& p : copy.named_parameters()) in.values(role + "." + p.name, p.shape, p.values);
    for (const auto& p : copy.named_buffers()) in.values(role + "." + p.name, p.shape, p.values);
    return copy;
}

template <class Optimizer, class State>
State read_optimizer(const checkpoint_reader& in, const std::string& role, const State& state) {
    const std::string prefix = "optimizer." + role + ".";
    const std::string expected = optimizer_name<Optimizer>::text();
    const std::string found = in.text(prefix + "type");
    if (found != expected)
        XGAN_THROW(checkpoint_error, in.where(), ": the checkpoint's ", role, " optimizer is ", found,
                   " but this program's is ", expected);
    State copy = state;
    copy.set_steps(in.scalar(prefix + "step"));
    for (auto& [name, values] : copy.named_tensors())
        in.values(prefix + std::string(name), {values.size()}, values);
    return copy;
}

}  // namespace detail

// Options for save_checkpoint. before_rename runs once the new file is complete and
// before it replaces the old one (tests simulate a crash there).
struct CheckpointOptions {
    std::function<void()> before_rename;
};

// Writes the trainer's whole state to `path` (.npz) atomically: a crash leaves the
// previous file at `path` intact.
template <class Trainer>
void save_checkpoint(const Trainer& trainer, const std::filesystem::path& path, const CheckpointOptions& options = {}) {
    static_assert(detail::check_checkpointable<Trainer>());
    using T = typename Trainer::value_type;
    using G = typename Trainer::generator_type;
    using D = typename Trainer::discriminator_type;
    npz::writer out;
    out.add_string("xgan.format", checkpoint_format);
    out.add_string("xgan.scalar", detail::scalar_name<T>());
    out.add_string("architecture.generator", describe<G>());
    out.add_string("architecture.discriminator", describe<D>());
    detail::add_tensors<T>(out, "generator.", trainer.generator().named_parameters());
    detail::add_tensors<T>(out, "generator.", trainer.generator().named_buffers());
    detail::add_tensors<T>(out, "discriminator.", trainer.discriminator().named_parameters());
    detail::add_tensors<T>(out, "discriminator.", trainer.discriminator().named_buffers());
    detail::add_optimizer<typename Trainer::generator_optimizer_state, T>(
        out, "optimizer.generator.",
        optimizer_name<std::remove_cvref_t<decltype(trainer.options().generator_optimizer)>>::text(),
        trainer.generator_state());
    detail::add_optimizer<typename Trainer::discriminator_optimizer_state, T>(
        out, "optimizer.discriminator.",
        optimizer_name<std::remove_cvref_t<decltype(trainer.options().discriminator_optimizer)>>::text(),
        trainer.discriminator_state());
    const auto words = detail::engine_words(trainer.rng());
    out.add("rng.mt19937_64", {words.size()}, words.data(), words.size());
    const std::uint64_t steps = trainer.steps();
    out.add("trainer.steps", {}, &steps, 1);
    out.save(path, options.before_rename);
}

// Restores a trainer from `path`. Throws checkpoint_error naming the file and the fault
// (corrupt or truncated file, another architecture, another scalar type or optimizer,
// NaN in a tensor) and then leaves the trainer exactly as it was.
template <class Trainer>
void load_checkpoint(Trainer& trainer, const std::filesystem::path& path) {
    load_checkpoint(trainer, npz::read(path), path.string());
}

// The same from an archive already read (npz::read_memory); `where` names it in errors.
template <class Trainer>
void load_checkpoint(Trainer& trainer, npz::archive entries, const std::filesystem::path& where) {
    static_assert(detail::check_checkpointable<Trainer>());
    using T = typename Trainer::value_type;
    const std::filesystem::path& path = where;
    const detail::checkpoint_reader in(std::move(entries), where.string());
    if (in.text("xgan.format") != checkpoint_format)
        XGAN_THROW(checkpoint_error, path.string(), ": format '", in.text("xgan.format"), "' is not '",
                   checkpoint_format, "'");
    if (in.text("xgan.scalar") != detail::scalar_name<T>())
        XGAN_THROW(checkpoint_error, path.string(), ": holds ", in.text("xgan.scalar"), " weights but this program ",
                   "trains in ", detail::scalar_name<T>());
    auto generator = detail::read_network(in, "generator", trainer.generator());
    auto discriminator = detail::read_network(in, "discriminator", trainer.discriminator());
    auto g_state = detail::read_optimizer<std::remove_cvref_t<decltype(trainer.options().generator_optimizer)>>(
        in, "generator", trainer.generator_state());
    auto d_state = detail::read_optimizer<std::remove_cvref_t<decltype(trainer.options().discriminator_optimizer)>>(
        in, "discriminator", trainer.discriminator_state());
    std::vector<std::uint64_t> words(detail::engine_words(trainer.rng()).size());
    in.values("rng.mt19937_64", {words.size()}, std::span<std::uint64_t>(words));
    std::stringstream text;
    for (std::uint64_t w : words) text << w << ' ';
    Rng::engine_type engine;
    text >> engine;
    if (text.fail()) XGAN_THROW(checkpoint_error, path.string(), ": entry 'rng.mt19937_64' is not an engine state");
    const std::uint64_t steps = in.scalar("trainer.steps");

    // Everything validated: commit (no throwing operation below).
    trainer.generator() = std::move(generator);
    trainer.discriminator() = std::move(discriminator);
    trainer.generator_state() = std::move(g_state);
    trainer.discriminator_state() = std::move(d_state);
    trainer.rng().engine() = engine;
    trainer.set_steps(steps);
}

}  // namespace xgan
