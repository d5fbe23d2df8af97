using Kindling.Bench;

// Usage: dotnet run -c Release --project bench/Kindling.Bench -- <mode> [--json] [--threads N] [--reps N] [--path auto|512|256|portable] [--filter TEXT]
// Each mode is a function from options to results; add a mode by adding an entry to Modes.
var modes = new Dictionary<string, Func<BenchOptions, List<BenchResult>>>(StringComparer.OrdinalIgnoreCase)
{
    ["gemm"] = GemmBench.Run,
    ["elementwise"] = ElementwiseBench.Run,
    ["logsoftmax"] = LogSoftmaxBench.Run,
    ["reductions"] = ReductionBench.Run,
    ["losses"] = LossBench.Run,
    ["training"] = TrainBench.Run,
    ["cnn"] = CnnBench.Run,
    ["inference"] = InferenceBench.Run,
    ["tta"] = TimeToAccuracyBench.Run,
    ["probe"] = KernelProbe.Run,
    ["stepprobe"] = StepProbe.Run,
    ["ddp"] = DdpBench.Run,
    ["loader"] = LoaderMemoryBench.Run,
    ["attention"] = AttentionBench.Run,
    ["lstm"] = RecurrentBench.Run,
};

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
if (options.Mode is null || !modes.TryGetValue(options.Mode, out var run))
{
    Console.Error.WriteLine($"usage: Kindling.Bench <mode> [--json] [--threads N] [--reps N] [--path auto|512|256|portable] [--filter TEXT]");
    Console.Error.WriteLine($"modes: {string.Join(", ", modes.Keys)}");
    return 2;
}

options.Apply();
var results = run(options);
if (options.Json)
    Console.WriteLine(BenchResult.ToJson(options, results));
return 0;
