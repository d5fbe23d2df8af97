using System.Text.Json.Nodes;
using Kindling.NN;
using Kindling.Parity;

namespace Kindling.Tests;

/// <summary>
/// Every loss-module class (the twins of the functional losses, built by the registry) forwards its options: each PyTorch-generated loss case
/// in tools/parity/cases is computed again through the module built with the case's options, and judged against
/// PyTorch's numbers by the same rule as the functional form.
/// </summary>
public class LossModuleParityTests
{
    /// <summary>The module for a case, built by the registry from the case's options, and its call; the class names are PyTorch's.</summary>
    private static (string Class, Tensor Loss) ThroughModule(string loss, Dictionary<string, Tensor> x, JsonObject options)
    {
        var entry = ParityRunner.Entry(loss);
        var module = entry.Module(ParityRunner.ReadOptions(entry, options));
        Assert.Equal(entry.ModuleName, module.GetType().Name);
        return (module.GetType().Name, entry.Call(module, k => x[k]));
    }

    [Fact]
    public void EveryLossModuleMatchesPyTorchWithItsOptions()
    {
        var failures = new List<string>();
        var classes = new HashSet<string>();
        int n = 0;
        foreach (var f in Directory.GetFiles(Path.Combine(Repo.Root, "tools", "parity", "cases"), "*.jsonl").OrderBy(f => f))
            foreach (var line in File.ReadLines(f))
            {
                var c = JsonNode.Parse(line)!.AsObject();
                var loss = c["loss"]!.GetValue<string>();
                var inputs = new Dictionary<string, Tensor>();
                foreach (var (name, node) in c["inputs"]!.AsObject())
                {
                    var t = ParityRunner.ReadTensor(node!);
                    if (t.DType == DType.Float32) t.RequiresGrad = true;
                    inputs[name] = t;
                }
                var result = new JsonObject { ["id"] = c["id"]!.GetValue<string>() };
                try
                {
                    var (cls, y) = ThroughModule(loss, inputs, c["options"]!.AsObject());
                    classes.Add(cls);
                    result["loss"] = ParityRunner.WriteTensor(y);
                    var grads = new JsonObject();
                    if (y.RequiresGrad)
                    {
                        y.Sum().Backward();
                        foreach (var (name, t) in inputs) if (t.Grad != null) grads[name] = ParityRunner.WriteTensor(t.Grad);
                    }
                    result["grads"] = grads;
                }
                catch (Exception e) when (e is ArgumentException or NotSupportedException)
                {
                    result = new JsonObject { ["id"] = c["id"]!.GetValue<string>(), ["error"] = e.Message, ["error_type"] = e.GetType().Name };
                }
                var why = ParityRunner.Judge(c, result);
                if (why != null) failures.Add($"{c["id"]}: {why}");
                n++;
            }
        Assert.True(failures.Count == 0, $"{failures.Count} of {n} cases failed through the modules:\n" + string.Join("\n", failures.Take(20)));
        // Every registered loss's module was exercised, and those are all of Kindling's loss modules.
        Assert.Equal(Kindling.Registry.Components.Losses.All.Select(e => e.ModuleName).Order(), classes.Order());
        var all = typeof(LossModule).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(LossModule)) && !t.IsAbstract).Select(t => t.Name).Order().ToArray();
        Assert.Equal(all, classes.Order().ToArray());
    }
}
