namespace Kindling.Cli;

/// <summary>Predictions and metrics of a model on a set, in evaluation mode and without gradients.</summary>
public sealed class Evaluation
{
    public double Loss { get; init; }
    public Dictionary<string, double> Metrics { get; } = [];
    public int[,]? Confusion { get; init; }
    /// <summary>Per-class precision, recall, F1 and support (classification).</summary>
    public List<ClassScore> PerClass { get; init; } = [];
    /// <summary>Binary tasks: the ROC and precision–recall curves of the positive class's score.</summary>
    public List<(double X, double Y)>? Roc { get; init; }
    public List<(double X, double Y)>? Pr { get; init; }
    /// <summary>Regression: true and predicted values in the original units (first output), for the report's plots.</summary>
    public (float[] Truth, float[] Pred)? Values { get; init; }
    public List<string> Warnings { get; } = [];
    /// <summary>The headline metric's name and value (accuracy for classification, RMSE for regression).</summary>
    public (string Name, double Value) Main { get; init; }

    /// <summary>
    /// The model's outputs for every row of <paramref name="x"/>, in evaluation mode and under no-grad, in batches of
    /// <paramref name="batch"/> rows gathered and prepared from the set's one copy of the data: memory beyond the
    /// outputs is one batch and its activations, never a graph or a prepared copy of the whole set.
    /// </summary>
    public static Tensor Predict(NN.Module model, RowSet x, int batch = 1024)
    {
        model.Eval();
        try
        {
            using var _ = Autograd.NoGrad();
            var outs = new List<Tensor>();
            for (int s = 0; s < x.Size(0); s += batch) outs.Add(model.Call(x.Batch(s, Math.Min(batch, x.Size(0) - s))));
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

    /// <summary>Regression outputs in the target's units: exp of the log-rate for Poisson, else unscaled.</summary>
    public static Tensor ToTargetUnits(Tensor o, string lossName, Preprocessing prep) => lossName == "poisson_nll" ? o.Exp() : prep.UnscaleTarget(o);

    public static Evaluation Run(NN.Module model, LossChoice loss, Problem p, RowSet x, Tensor y)
    {
        var o = Predict(model, x);
        double l;
        using (Autograd.NoGrad()) l = loss.Fn(o, y).ItemDouble();
        if (p.IsClassLike)
        {
            var pred = Classes(o);
            var truth = y.ToInt64Array();
            var cm = Kindling.Cli.Metrics.Confusion(truth, pred, p.NumClasses);
            List<(double, double)>? roc = null, pr = null;
            double auc = double.NaN, ap = double.NaN;
            if (p.NumClasses == 2)
            {
                var score = Probabilities(o).Narrow(1, 1, 1).ToDoubleArray();
                auc = Kindling.Cli.Metrics.RocAuc(truth, score);
                ap = Kindling.Cli.Metrics.AveragePrecision(truth, score);
                roc = Kindling.Cli.Metrics.RocCurve(truth, score);
                pr = Kindling.Cli.Metrics.PrCurve(truth, score);
            }
            var e = new Evaluation
            {
                Loss = l, Confusion = cm, Main = ("accuracy", Kindling.Cli.Metrics.Accuracy(truth, pred)),
                PerClass = Kindling.Cli.Metrics.PerClass(cm, p.ClassNames), Roc = roc, Pr = pr,
            };
            e.Metrics["accuracy"] = e.Main.Value;
            e.Metrics["balanced_accuracy"] = Kindling.Cli.Metrics.BalancedAccuracy(cm);
            e.Metrics["macro_f1"] = Kindling.Cli.Metrics.MacroF1(cm);
            if (p.NumClasses == 2) { e.Metrics["roc_auc"] = auc; e.Metrics["pr_auc"] = ap; }
            if (Kindling.Cli.Metrics.MajorityWarning(cm, p.ClassNames) is { } w) e.Warnings.Add(w);
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
        // Regression: metrics in the original units, overall and (for several outputs) per output column.
        int outs = o.Size(1);
        var yv = p.Prep.UnscaleTarget(y.Rank == 1 ? y.Reshape(-1, 1) : y).ToArray();
        var pv = ToTargetUnits(o, loss.Name, p.Prep).ToArray();
        var ev = new Evaluation { Loss = l, Main = ("rmse", Kindling.Cli.Metrics.Rmse(yv, pv)), Values = (Column(yv, outs, 0), Column(pv, outs, 0)) };
        ev.Metrics["rmse"] = ev.Main.Value;
        ev.Metrics["mae"] = Kindling.Cli.Metrics.Mae(yv, pv);
        if (outs == 1) ev.Metrics["r2"] = Kindling.Cli.Metrics.R2(yv, pv);
        else
        {
            var r2 = new double[outs];
            for (int j = 0; j < outs; j++)
            {
                var name = j < p.TargetNames.Length ? p.TargetNames[j] : $"output{j}";
                float[] a = Column(yv, outs, j), b = Column(pv, outs, j);
                ev.Metrics[$"rmse[{name}]"] = Kindling.Cli.Metrics.Rmse(a, b);
                ev.Metrics[$"mae[{name}]"] = Kindling.Cli.Metrics.Mae(a, b);
                ev.Metrics[$"r2[{name}]"] = r2[j] = Kindling.Cli.Metrics.R2(a, b);
            }
            ev.Metrics["r2"] = r2.Average(); // scikit-learn's r2_score default: uniform average over outputs
        }
        return ev;
    }

    private static float[] Column(float[] v, int k, int j)
    {
        var c = new float[v.Length / k];
        for (int i = 0; i < c.Length; i++) c[i] = v[i * k + j];
        return c;
    }
}
