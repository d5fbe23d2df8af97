namespace Kindling.Cli;

/// <summary>Predictions and metrics of a model on a set, in evaluation mode and without gradients.</summary>
public sealed class Evaluation
{
    public double Loss { get; init; }
    public Dictionary<string, double> Metrics { get; } = [];
    public int[,]? Confusion { get; init; }
    /// <summary>The headline metric's name and value (accuracy for classification, RMSE for regression).</summary>
    public (string Name, double Value) Main { get; init; }

    public static Tensor Predict(NN.Module model, Tensor x, int batch = 1024)
    {
        model.Eval();
        try
        {
            using var _ = Autograd.NoGrad();
            var outs = new List<Tensor>();
            for (int s = 0; s < x.Size(0); s += batch) outs.Add(model.Call(x.Narrow(0, s, Math.Min(batch, x.Size(0) - s))));
            return outs.Count == 1 ? outs[0] : Tensor.Cat(outs, 0);
        }
        finally { model.Train(); }
    }

    /// <summary>Predicted class indices from outputs (argmax, or a 0.5 threshold on one logit).</summary>
    public static long[] Classes(Tensor o) => o.Size(1) == 1 ? o.ToArray().Select(v => v > 0 ? 1L : 0L).ToArray() : o.ArgMax(1).ToInt64Array();

    /// <summary>Class probabilities (N, K) from outputs.</summary>
    public static Tensor Probabilities(Tensor o)
    {
        if (o.Size(1) != 1) return o.Softmax(1);
        var p = o.Sigmoid();
        return Tensor.Cat([1 - p, p], 1);
    }

    public static Evaluation Run(NN.Module model, LossChoice loss, Problem p, Tensor x, Tensor y)
    {
        var o = Predict(model, x);
        double l;
        using (Autograd.NoGrad()) l = loss.Fn(o, y).ItemDouble();
        if (p.IsClassLike)
        {
            var pred = Classes(o);
            var truth = y.ToInt64Array();
            var cm = Kindling.Cli.Metrics.Confusion(truth, pred, p.NumClasses);
            var e = new Evaluation { Loss = l, Confusion = cm, Main = ("accuracy", Kindling.Cli.Metrics.Accuracy(truth, pred)) };
            e.Metrics["accuracy"] = e.Main.Value;
            e.Metrics["macro_f1"] = Kindling.Cli.Metrics.MacroF1(cm);
            return e;
        }
        if (p.Task == "multilabel")
        {
            var pr = o.ToArray().Select(v => v > 0 ? 1f : 0f).ToArray();
            var t = y.ToArray();
            int rows = y.Size(0), k = y.Size(1);
            int exact = Enumerable.Range(0, rows).Count(r => Enumerable.Range(0, k).All(j => pr[r * k + j] == t[r * k + j]));
            double f1 = Enumerable.Range(0, k).Average(j =>
            {
                var cm = Kindling.Cli.Metrics.Confusion(Enumerable.Range(0, rows).Select(r => (long)t[r * k + j]).ToArray(), Enumerable.Range(0, rows).Select(r => (long)pr[r * k + j]).ToArray(), 2);
                return Kindling.Cli.Metrics.MacroF1(cm);
            });
            var e = new Evaluation { Loss = l, Main = ("subset_accuracy", exact / (double)rows) };
            e.Metrics["subset_accuracy"] = e.Main.Value;
            e.Metrics["hamming_accuracy"] = pr.Zip(t).Count(z => z.First == z.Second) / (double)pr.Length;
            e.Metrics["macro_f1"] = f1;
            return e;
        }
        var (m, s) = p.TargetScale;
        var yv = y.ToArray().Select(v => (float)(v * s + m)).ToArray();
        var pv = o.ToArray().Select(v => (float)(v * s + m)).ToArray();
        var ev = new Evaluation { Loss = l, Main = ("rmse", Kindling.Cli.Metrics.Rmse(yv, pv)) };
        ev.Metrics["rmse"] = ev.Main.Value;
        ev.Metrics["mae"] = Kindling.Cli.Metrics.Mae(yv, pv);
        ev.Metrics["r2"] = Kindling.Cli.Metrics.R2(yv, pv);
        return ev;
    }
}
