using System.Text.Json.Nodes;
using Kindling.NN;
using Kindling.Parity;

namespace Kindling.Tests;

/// <summary>
/// Every loss-module class (the 23 twins of the functional losses) forwards its options: each PyTorch-generated loss case
/// in tools/parity/cases is computed again through the module built with the case's options, and judged against
/// PyTorch's numbers by the same rule as the functional form.
/// </summary>
public class LossModuleParityTests
{
    private sealed class Opts(JsonObject o)
    {
        public double Num(string k, double d) => o[k] is JsonNode n ? n.GetValue<double>() : d;
        public bool Bool(string k, bool d) => o[k] is JsonNode n ? n.GetValue<bool>() : d;
        public Tensor? T(string k) => o[k] is JsonNode n ? ParityRunner.ReadTensor(n) : null;
        public Reduction Red(string loss, string d = "mean") => Reductions.Parse(o["reduction"]?.GetValue<string>() ?? d, loss);
        public string Str(string k, string d) => o[k] is JsonNode n ? n.GetValue<string>() : d;
    }

    /// <summary>The module for a case and its call; the class names are PyTorch's.</summary>
    private static (string Class, Tensor Loss) ThroughModule(string loss, Dictionary<string, Tensor> x, Opts o)
    {
        Tensor I(string k) => x[k];
        switch (loss)
        {
            case "cross_entropy": return ("CrossEntropyLoss", new CrossEntropyLoss(o.T("weight"), (long)o.Num("ignore_index", -100), o.Red(loss), o.Num("label_smoothing", 0)).Call(I("input"), I("target")));
            case "nll_loss": return ("NLLLoss", new NLLLoss(o.T("weight"), (long)o.Num("ignore_index", -100), o.Red(loss)).Call(I("input"), I("target")));
            case "binary_cross_entropy": return ("BCELoss", new BCELoss(o.T("weight"), o.Red(loss)).Call(I("input"), I("target")));
            case "binary_cross_entropy_with_logits": return ("BCEWithLogitsLoss", new BCEWithLogitsLoss(o.T("weight"), o.Red(loss), o.T("pos_weight")).Call(I("input"), I("target")));
            case "sigmoid_focal_loss": return ("SigmoidFocalLoss", new SigmoidFocalLoss(o.Num("alpha", 0.25), o.Num("gamma", 2), o.Red(loss, "none")).Call(I("input"), I("target")));
            case "softmax_focal_loss": return ("FocalLoss", new FocalLoss(o.T("alpha"), o.Num("gamma", 2), (long)o.Num("ignore_index", -100), o.Red(loss)).Call(I("input"), I("target")));
            case "multilabel_soft_margin_loss": return ("MultiLabelSoftMarginLoss", new MultiLabelSoftMarginLoss(o.T("weight"), o.Red(loss)).Call(I("input"), I("target")));
            case "multi_margin_loss": return ("MultiMarginLoss", new MultiMarginLoss((int)o.Num("p", 1), o.Num("margin", 1), o.T("weight"), o.Red(loss)).Call(I("input"), I("target")));
            case "multilabel_margin_loss": return ("MultiLabelMarginLoss", new MultiLabelMarginLoss(o.Red(loss)).Call(I("input"), I("target")));
            case "soft_margin_loss": return ("SoftMarginLoss", new SoftMarginLoss(o.Red(loss)).Call(I("input"), I("target")));
            case "hinge_embedding_loss": return ("HingeEmbeddingLoss", new HingeEmbeddingLoss(o.Num("margin", 1), o.Red(loss)).Call(I("input"), I("target")));
            case "margin_ranking_loss": return ("MarginRankingLoss", new MarginRankingLoss(o.Num("margin", 0), o.Red(loss)).Forward(I("input1"), I("input2"), I("target")));
            case "cosine_embedding_loss": return ("CosineEmbeddingLoss", new CosineEmbeddingLoss(o.Num("margin", 0), o.Red(loss)).Forward(I("input1"), I("input2"), I("target")));
            case "triplet_margin_loss": return ("TripletMarginLoss", new TripletMarginLoss(o.Num("margin", 1), o.Num("p", 2), o.Num("eps", 1e-6), o.Bool("swap", false), o.Red(loss)).Forward(I("anchor"), I("positive"), I("negative")));
            case "triplet_margin_with_distance_loss":
                Func<Tensor, Tensor, Tensor>? d = o.Str("distance_function", "pairwise_distance") == "pairwise_distance_p1" ? (a, b) => Functional.PairwiseDistance(a, b, 1) : null;
                return ("TripletMarginWithDistanceLoss", new TripletMarginWithDistanceLoss(d, o.Num("margin", 1), o.Bool("swap", false), o.Red(loss)).Forward(I("anchor"), I("positive"), I("negative")));
            case "ctc_loss": return ("CTCLoss", new CTCLoss((int)o.Num("blank", 0), o.Red(loss), o.Bool("zero_infinity", false)).Forward(I("log_probs"), I("targets"), I("input_lengths"), I("target_lengths")));
            case "mse_loss": return ("MSELoss", new MSELoss(o.Red(loss)).Call(I("input"), I("target")));
            case "l1_loss": return ("L1Loss", new L1Loss(o.Red(loss)).Call(I("input"), I("target")));
            case "smooth_l1_loss": return ("SmoothL1Loss", new SmoothL1Loss(o.Red(loss), o.Num("beta", 1)).Call(I("input"), I("target")));
            case "huber_loss": return ("HuberLoss", new HuberLoss(o.Red(loss), o.Num("delta", 1)).Call(I("input"), I("target")));
            case "kl_div": return ("KLDivLoss", new KLDivLoss(o.Red(loss), o.Bool("log_target", false)).Call(I("input"), I("target")));
            case "poisson_nll_loss": return ("PoissonNLLLoss", new PoissonNLLLoss(o.Bool("log_input", true), o.Bool("full", false), o.Num("eps", 1e-8), o.Red(loss)).Call(I("input"), I("target")));
            case "gaussian_nll_loss": return ("GaussianNLLLoss", new GaussianNLLLoss(o.Bool("full", false), o.Num("eps", 1e-6), o.Red(loss)).Forward(I("input"), I("target"), I("var")));
            default: throw new InvalidOperationException("no module for " + loss);
        }
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
                    var (cls, y) = ThroughModule(loss, inputs, new Opts(c["options"]!.AsObject()));
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
                catch (ArgumentException e)
                {
                    result = new JsonObject { ["id"] = c["id"]!.GetValue<string>(), ["error"] = e.Message, ["error_type"] = e.GetType().Name };
                }
                var why = ParityRunner.Judge(c, result);
                if (why != null) failures.Add($"{c["id"]}: {why}");
                n++;
            }
        Assert.True(failures.Count == 0, $"{failures.Count} of {n} cases failed through the modules:\n" + string.Join("\n", failures.Take(20)));
        Assert.Equal(23, classes.Count);
        // The 23 classes are all of Kindling's loss modules.
        var all = typeof(Loss).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(Loss)) && !t.IsAbstract).Select(t => t.Name).Order().ToArray();
        Assert.Equal(all, classes.Order().ToArray());
    }
}
