using System.Reflection;
using System.Text.Json.Nodes;
using Kindling.NN;
using Kindling.Optim;
using Kindling.Parity;
using Kindling.Registry;

namespace Kindling.Tests;

/// <summary>
/// The registry of named components against what it describes: every loss module and functional form is registered,
/// every option's default is the one the code uses, every registered loss has PyTorch cases and passes a float64
/// gradient check on them, and lookups and validation messages behave.
/// </summary>
public class RegistryTests
{
    private static string Camel(string snake)
    {
        var parts = snake.Split('_');
        return parts[0] + string.Concat(parts.Skip(1).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
    }

    /// <summary>The parameter default as a schema would hold it (enums as lower-case names, numbers as double).</summary>
    private static object? Norm(object? v) => v switch
    {
        null => null,
        Enum e => e.ToString().ToLowerInvariant(),
        int or long or float => Convert.ToDouble(v),
        _ => v,
    };

    private static void SameDefaults(string what, IReadOnlyList<OptionSpec> options, ParameterInfo[] ps, Func<string, string>? rename = null)
    {
        foreach (var o in options)
        {
            var name = (rename ?? Camel)(o.Name);
            var p = ps.FirstOrDefault(q => q.Name == name);
            Assert.True(p != null, $"{what}: option '{o.Name}' has no parameter '{name}' ({string.Join(", ", ps.Select(q => q.Name))})");
            if (typeof(Delegate).IsAssignableFrom(p!.ParameterType)) continue; // a callable named by a Choice (null = PyTorch's default)
            if (!p!.HasDefaultValue) { Assert.True(o.Default == null, $"{what}: '{o.Name}' is required in code but defaults to {o.Default} in the registry"); continue; }
            Assert.True(Equals(Norm(p.DefaultValue), o.Default), $"{what}: '{o.Name}' defaults to {Norm(p.DefaultValue) ?? "null"} in code but {o.Default ?? "null"} in the registry");
        }
    }

    [Fact]
    public void EveryLossModuleIsRegisteredAndBuiltWithItsDefaults()
    {
        var modules = typeof(LossModule).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(LossModule)) && !t.IsAbstract).Select(t => t.Name).Order().ToArray();
        Assert.Equal(modules, Components.Losses.All.Select(e => e.ModuleName).Order().ToArray());
        foreach (var e in Components.Losses.All)
        {
            var m = e.Module(e.Values());
            Assert.Equal(e.ModuleName, m.GetType().Name);
            Assert.Equal(e.Option("reduction")!.Default, m.Reduction.ToString().ToLowerInvariant());
        }
    }

    [Fact]
    public void LossOptionDefaultsAreTheFunctionalDefaults()
    {
        var methods = typeof(Functional).GetMethods(BindingFlags.Public | BindingFlags.Static);
        foreach (var e in Components.Losses.All)
        {
            var f = methods.Where(m => m.Name.Equals(e.Name.Replace("_", ""), StringComparison.OrdinalIgnoreCase)).ToList();
            Assert.True(f.Count == 1, $"{e.Name}: {f.Count} functional forms named like it");
            var ps = f[0].GetParameters();
            Assert.Equal(e.Inputs, ps.Where(p => p.ParameterType == typeof(Tensor) && !p.HasDefaultValue).Select(p => Snake(p.Name!)).ToArray());
            SameDefaults(e.Name, e.Options, ps, n => n == "distance_function" ? "distanceFunction" : Camel(n));
        }
    }

    private static string Snake(string camel) => string.Concat(camel.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : c.ToString()));

    [Fact]
    public void OptimizerAndActivationOptionDefaultsAreTheConstructorDefaults()
    {
        foreach (var e in Components.Optimizers.All)
        {
            var p = Tensor.Ones([3]).RequiresGrad_();
            var opt = e.Build([p], new Dictionary<string, object?> { ["lr"] = e.DefaultLr });
            Assert.Equal(e.Name, opt.GetType().Name.ToLowerInvariant());
            // The schema lists the constructor's options in its order, with its defaults.
            var ctor = opt.GetType().GetConstructors().Single(c => c.GetParameters()[0].ParameterType == typeof(IEnumerable<Tensor>));
            Assert.Equal(ctor.GetParameters().Skip(1).Select(q => q.Name), e.Options.Select(o => Camel(o.Name)));
            SameDefaults(e.Name, e.Options, ctor.GetParameters());
            p.Grad = Tensor.Ones([3]);
            opt.Step();
            Assert.True(p.ToArray().All(v => v < 1), $"{e.Name}: one step on a gradient of ones did not lower the weights");
        }
        foreach (var e in Components.Activations.All)
        {
            var m = e.Build();
            SameDefaults(e.Name, e.Options, m.GetType().GetConstructors().Single().GetParameters());
        }
    }

    [Fact]
    public void SchedulersBuildTheirClasses()
    {
        var opt = new SGD([Tensor.Ones([2]).RequiresGrad_()], 0.1);
        var len = new ScheduleLength(30, 10, 0.1);
        Assert.Null(Components.Schedulers.Get("none").Build(opt, len));
        Assert.IsType<ReduceLROnPlateau>(Components.Schedulers.Get("plateau").Build(opt, len));
        var step = Assert.IsType<StepLR>(Components.Schedulers.Get("StepLR").Build(opt, len, new Dictionary<string, object?> { ["step_size"] = 5.0 }));
        for (int i = 0; i < 5; i++) step.Step();
        Assert.Equal(0.1 * 0.1, opt.ParamGroups[0].Lr!.Value, 12);
        foreach (var e in Components.Schedulers.All.Where(e => e.Name is not ("none" or "plateau")))
            Assert.Equal(e.PerBatch, Assert.IsAssignableFrom<LRScheduler>(e.Build(new SGD([Tensor.Ones([2]).RequiresGrad_()], 0.1), len)) is OneCycleLR);
    }

    [Fact]
    public void DatasetsAreTheEmbeddedOnesAndFashionMnist()
    {
        Assert.Equal(Kindling.Data.Datasets.Names, Components.Datasets.All.Where(d => d.Embedded).Select(d => d.Name));
        foreach (var d in Components.Datasets.All.Where(d => d.Embedded))
        {
            var data = d.Load(true);
            Assert.True(data.Features.Size(0) > 100 && data.Features.Size(0) == data.Targets.Size(0), d.Name);
            Assert.Equal(data.Features.ToArray(), Kindling.Data.Datasets.Load(d.Name).Features.ToArray());
        }
        var fm = Components.Datasets.Get("FashionMNIST");
        Assert.True(fm.HasTestSplit && !fm.Embedded);
        Assert.Equal(Kindling.Data.FashionMnist.IsAvailable(), fm.IsAvailable());
    }

    [Fact]
    public void LookupIgnoresCaseAndDashesAndListsTheNamesWhenUnknown()
    {
        Assert.Equal("leaky_relu", Components.Activations.Get("Leaky-ReLU").Name);
        Assert.Equal("silu", Components.Activations.Get("swish").Name);
        Assert.Equal("fashion-mnist", Components.Datasets.Get("fashion_mnist").Name);
        Assert.Equal("l1_loss", Components.Losses.Get("MAE").Name);
        var e = Assert.Throws<ArgumentException>(() => Components.Optimizers.Get("adamz"));
        Assert.Contains("unknown optimizer 'adamz'; known: " + string.Join(", ", Components.Optimizers.Names) + ".", e.Message);
        Assert.StartsWith("sgd, adam, adamw, rmsprop, adagrad", string.Join(", ", Components.Optimizers.Names));
        // "focal" is the command line's name of two losses; the task decides which.
        Assert.Equal("softmax_focal_loss", Components.LossFor(LossTasks.Classification, "focal")!.Name);
        Assert.Equal("sigmoid_focal_loss", Components.LossFor(LossTasks.Binary, "focal_loss")!.Name);
        Assert.Null(Components.LossFor(LossTasks.Regression, "cross_entropy"));
        // The command line lists losses in registry order; a new regression loss may join, these stay in this order.
        Assert.Equal(["mse", "l1", "huber", "smooth_l1", "poisson_nll"], Components.LossesFor(LossTasks.Regression).Select(l => l.Short)
            .Where(s => s is "mse" or "l1" or "huber" or "smooth_l1" or "poisson_nll"));
        Assert.DoesNotContain(Components.LossesFor(LossTasks.Regression), l => l.Name is "cross_entropy" or "nll_loss" or "ctc_loss");
    }

    [Fact]
    public void OptionValuesAreCheckedAgainstTheSchema()
    {
        var adam = Components.Optimizers.Get("adam");
        Assert.Contains("adam: option 'beta1' must be in [0, 1), got 1.", Assert.Throws<ArgumentException>(() => adam.Values(new Dictionary<string, object?> { ["beta1"] = 1.0 })).Message);
        Assert.Contains("must be ≥ 0, got NaN", Assert.Throws<ArgumentException>(() => adam.Values(new Dictionary<string, object?> { ["lr"] = double.NaN })).Message);
        Assert.Contains("option 'betas' is not known; its options are: lr, beta1, beta2", Assert.Throws<ArgumentException>(() => adam.Values(new Dictionary<string, object?> { ["betas"] = 0.9 })).Message);
        Assert.Contains("must be true or false", Assert.Throws<ArgumentException>(() => adam.Values(new Dictionary<string, object?> { ["amsgrad"] = 1.0 })).Message);
        Assert.Contains("option 'lr' is required", Assert.Throws<ArgumentException>(() => Components.Optimizers.Get("sgd").Build([Tensor.Ones([1]).RequiresGrad_()])).Message);
        Assert.Contains("must be a whole number ≥ 1, got 2.5", Assert.Throws<ArgumentException>(() => Components.Schedulers.Get("step").Values(new Dictionary<string, object?> { ["step_size"] = 2.5 })).Message);
        Assert.Contains("must be one of none, mean, sum", Assert.Throws<ArgumentException>(() => Components.Losses.Get("mse_loss").Values(new Dictionary<string, object?> { ["reduction"] = "avg" })).Message);
    }

    /// <summary>The PyTorch cases of every registered loss, by loss name.</summary>
    private static Dictionary<string, List<JsonObject>> CasesByLoss()
    {
        var d = new Dictionary<string, List<JsonObject>>();
        foreach (var f in Directory.GetFiles(Path.Combine(Repo.Root, "tools", "parity", "cases"), "*.jsonl").Order())
            foreach (var line in File.ReadLines(f))
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                var c = JsonNode.Parse(line)!.AsObject();
                var loss = c["loss"]!.GetValue<string>();
                if (!d.TryGetValue(loss, out var l)) d[loss] = l = [];
                l.Add(c);
            }
        return d;
    }

    public static TheoryData<string> LossNames() => [.. Components.Losses.Names];

    /// <summary>
    /// Whether Σ wᵢ·f(x)ᵢ is differentiable at x along every coordinate of the inputs: the one-sided differences at the
    /// finite-difference step agree. Cases built on a kink (ties of a ranking loss, zero vectors of a cosine, a hinge at
    /// its margin) or on the edge of the domain (a variance of 0) have no derivative there to check.
    /// </summary>
    private static bool Smooth(Func<Tensor[], Tensor> f, Tensor[] x, double h)
    {
        var w = Tensor.Rand(f(x).Shape, new Generator(5), DType.Float64);
        double S(Tensor[] xs) { try { using (Autograd.NoGrad()) return (f(xs) * w).Sum().ItemDouble(); } catch (ArgumentException) { return double.NaN; } }
        double s0 = S(x);
        for (int a = 0; a < x.Length; a++)
        {
            var data = (double[])x[a].Storage.Data;
            for (int i = 0; i < x[a].NumEl; i++)
            {
                double v = data[x[a].Offset + i];
                data[x[a].Offset + i] = v + h; double up = S(x);
                data[x[a].Offset + i] = v - h; double down = S(x);
                data[x[a].Offset + i] = v;
                double dp = (up - s0) / h, dm = (s0 - down) / h;
                if (!double.IsFinite(dp) || !double.IsFinite(dm) || Math.Abs(dp - dm) > 1e-4 * Math.Max(1, Math.Abs(dp) + Math.Abs(dm))) return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Every registered loss is gradient-checked in float64 on its PyTorch cases (up to 12 with differentiable inputs and
    /// small enough to difference), through the registry's functional factory with each case's options, for the inputs
    /// PyTorch gives a gradient: a new loss is checked as soon as it is registered and has cases. Cases at a kink are
    /// left out (<see cref="Smooth"/>); at least half of the candidates of every loss must be checked.
    /// </summary>
    [Theory]
    [MemberData(nameof(LossNames))]
    public void EveryRegisteredLossPassesGradcheckOnItsCases(string loss)
    {
        var entry = Components.Losses.Get(loss);
        Assert.True(CasesByLoss().TryGetValue(loss, out var cases), $"{loss} has no PyTorch cases in tools/parity/cases");
        int n = 0, candidates = 0;
        foreach (var c in cases!.Where(c => c["expected"]!["error"]?.GetValue<bool>() != true && c["expected"]!["grads"] is JsonObject g && g.Count > 0))
        {
            var inputs = new Dictionary<string, Tensor>();
            foreach (var (name, node) in c["inputs"]!.AsObject())
            {
                var t = ParityRunner.ReadTensor(node!);
                inputs[name] = t.DType == DType.Float32 ? t.ToFloat64() : t;
            }
            // The inputs PyTorch differentiates (a float target of soft_margin is not one of them).
            var names = c["expected"]!["grads"]!.AsObject().Select(kv => kv.Key).ToArray();
            if (inputs.Values.Sum(t => t.NumEl) > 300) continue;
            foreach (var k in names) inputs[k].RequiresGrad_();
            var options = ParityRunner.ReadOptions(entry, c["options"]!.AsObject(), t => t.DType == DType.Float32 ? t.ToFloat64() : t);
            // PyTorch's CTC gradient is the gradient through a log_softmax (it assumes log_probs are normalised), so
            // the check differentiates ctc_loss(log_softmax(x)), as PyTorch's own gradcheck of it does.
            Tensor In(Tensor[] x, string k) => Array.IndexOf(names, k) is int i and >= 0 ? (loss == "ctc_loss" && k == "log_probs" ? x[i].LogSoftmax(2) : x[i]) : inputs[k];
            Tensor F(Tensor[] x) => entry.Functional(k => In(x, k), options);
            var x0 = names.Select(k => inputs[k]).ToArray();
            if (F(x0).ToDoubleArray().Any(v => !double.IsFinite(v))) continue;
            candidates++;
            if (!Smooth(F, x0, 1e-6)) continue;
            try { GradCheck.Check(F, x0, eps: 1e-6, atol: 1e-5, rtol: 1e-3); }
            catch (Exception e) { throw new Xunit.Sdk.XunitException($"{loss}, case {c["id"]}: {e.Message}"); }
            if (++n == 12) break;
        }
        Assert.True(n > 0 && 2 * n >= Math.Min(candidates, 24), $"{loss}: {n} of {candidates} PyTorch cases gradient-checked; most are at a kink");
    }
}
