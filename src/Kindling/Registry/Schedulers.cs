using Kindling.Optim;
using static Kindling.Registry.OptionSpec;

namespace Kindling.Registry;

/// <summary>The length of the training a scheduler is built for.</summary>
public sealed record ScheduleLength(int Epochs, int StepsPerEpoch, double Lr);

/// <summary>
/// A registered learning-rate schedule. <see cref="Create"/> returns an <see cref="LRScheduler"/> (stepped once per epoch,
/// or per batch when <see cref="PerBatch"/>), a <see cref="ReduceLROnPlateau"/> (stepped with the validation loss), or null
/// for a constant rate. Defaults that depend on the training length are computed from <see cref="ScheduleLength"/>.
/// </summary>
public sealed class SchedulerEntry : ComponentEntry
{
    public required Func<Optimizer, ScheduleLength, OptionValues, object?> Create { get; init; }
    /// <summary>Stepped after every batch rather than every epoch (OneCycleLR).</summary>
    public bool PerBatch { get; init; }
    public object? Build(Optimizer optimizer, ScheduleLength length, IReadOnlyDictionary<string, object?>? options = null) => Create(optimizer, length, Values(options));
}

public static partial class Components
{
    private static int Or(OptionValues o, string name, int computed) => o.IsSet(name) ? (int)o.Integer(name) : computed;

    /// <summary>
    /// The learning-rate schedules (what <c>kindling --scheduler</c> offers). Their defaults are the command line's presets,
    /// which differ from PyTorch's where PyTorch has none or a longer one: ExponentialLR gamma 0.95 (required in PyTorch),
    /// LinearLR start_factor 0.1 over a tenth of the epochs (PyTorch: 1/3 over 5), ReduceLROnPlateau patience 3 (PyTorch: 10).
    /// </summary>
    public static ComponentTable<SchedulerEntry> Schedulers { get; } = new("scheduler",
    [
        new() { Name = "none", Aliases = ["constant"], Help = "a constant learning rate", Create = (_, _, _) => null },
        new()
        {
            Name = "step", Aliases = ["steplr"], Help = "StepLR: multiply the rate by gamma every step_size epochs",
            Options = [Integer("step_size", null, "epochs between decays (default: a third of the epochs)", 1), Number("gamma", 0.1, "decay factor", 0)],
            Create = (opt, l, o) => new StepLR(opt, Or(o, "step_size", Math.Max(1, l.Epochs / 3)), o.Number("gamma")),
        },
        new()
        {
            Name = "cosine", Aliases = ["cosineannealinglr"], Help = "CosineAnnealingLR: a half cosine from the rate to eta_min over t_max epochs",
            Options = [Integer("t_max", null, "epochs of the half cosine (default: all of them)", 1), Number("eta_min", 0.0, "the final rate", 0)],
            Create = (opt, l, o) => new CosineAnnealingLR(opt, Or(o, "t_max", l.Epochs), o.Number("eta_min")),
        },
        new()
        {
            Name = "exponential", Aliases = ["exponentiallr"], Help = "ExponentialLR: multiply the rate by gamma every epoch",
            Options = [Number("gamma", 0.95, "decay factor per epoch", 0)],
            Create = (opt, _, o) => new ExponentialLR(opt, o.Number("gamma")),
        },
        new()
        {
            Name = "warmup", Aliases = ["linearlr"], Help = "LinearLR: ramp the rate linearly from start_factor to end_factor of itself",
            Options = [Number("start_factor", 0.1, "factor at the first epoch", 0, 1, minExclusive: true), Number("end_factor", 1.0, "factor at the end of the ramp", 0, 1),
                       Integer("total_iters", null, "epochs of the ramp (default: a tenth of the epochs)", 1)],
            Create = (opt, l, o) => new LinearLR(opt, o.Number("start_factor"), o.Number("end_factor"), Or(o, "total_iters", Math.Max(1, l.Epochs / 10))),
        },
        new()
        {
            Name = "onecycle", Aliases = ["onecyclelr"], Help = "OneCycleLR: up to max_lr and down again over the whole training, per batch", PerBatch = true,
            Options = [Number("max_lr", null, "the peak rate (default: the learning rate)", 0)],
            Create = (opt, l, o) => new OneCycleLR(opt, o.IsSet("max_lr") ? o.Number("max_lr") : l.Lr, l.Epochs * l.StepsPerEpoch),
        },
        new()
        {
            Name = "plateau", Aliases = ["reducelronplateau"], Help = "ReduceLROnPlateau: multiply the rate by factor when the validation loss stops improving",
            Options = [Number("factor", 0.1, "decay factor", 0, 1, minExclusive: true, maxExclusive: true), Integer("patience", 3, "epochs without improvement before a decay", 0)],
            Create = (opt, _, o) => new ReduceLROnPlateau(opt, factor: o.Number("factor"), patience: (int)o.Integer("patience")),
        },
    ]);
}
