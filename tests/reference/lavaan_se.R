# Standard errors of lavaan's exploratory factor analysis on Holzinger-Swineford.
#
# Run from the repository root:
#
#     Rscript tests/reference/lavaan_se.R [JSON path]
#
# By default it writes tests/reference/lavaan_se.json. Needs R with lavaan
# (0.6.14 was used). Doubles are written with 17 significant digits; NA, NaN,
# Inf and NULL are written as null (the JSON conventions of factor_reference.R).
# Deterministic: the random starts of the rotations use the fixed seed in
# versions$seed, set before every fit.
#
# Data: x1..x9 of lvm/datasets/data/holzinger_swineford_1939.csv (n = 301),
# identical to lavaan::HolzingerSwineford1939 (checked in factor_reference.R).
#
# Every fit is lavaan::efa(data = hs9, nfactors = 3, output = "lavaan", ...)
# with lavaan's defaults for complete data: estimator ML, likelihood "normal"
# (sample covariance with divisor n, N = 301 in the information),
# information "expected" with h1.information "structured" (evaluated at the
# fitted model), se "standard", rotation.se "bordered" (Jennrich's augmented
# information, the constraint Jacobian by numDeriv, Richardson), std.ov TRUE
# (the rotation acts on the standardised loadings).
#
# Top-level keys
# --------------
#   versions     R and lavaan versions, seed
#   n            301
#   sample_cov   sample covariance with divisor n (lavInspect "sampstat")
#   fits         one entry per rotation:
#     none       rotation "none": echelon identification (lambda[i, j] = 0 for
#                j > i); only the uniquenesses are comparable with a rotated
#                solution
#     varimax    rotation.args algorithm "pairwise", tol 1e-13, rstarts 30,
#                row.weights "default" (= "kaiser" for varimax)
#     oblimin    oblimin.gamma 0 (quartimin), algorithm "gpa", gpa.tol 1e-7,
#                rstarts 30, row.weights "none"
#     geomin     geomin.epsilon 0.001, algorithm "gpa", gpa.tol 1e-7,
#                rstarts 30, row.weights "none"
#   Each holds: call, options (estimator, likelihood, information,
#   h1.information, se, rotation, rotation.se, rotation.args), converged,
#   std (lavTech "std": lambda = standardised loadings, theta = diag of the
#   standardised residual variances = uniquenesses, psi = factor
#   correlations), std_se (lavTech "std.se", the standard errors that
#   efa() prints and standardizedSolution() returns), raw (lavTech "est":
#   lambda, theta on the raw scale) and raw_se (lavTech "se"),
#   std_se_equals_standardizedSolution (TRUE when the two agree).
#   default_tol: the standard errors of the standardised solution with
#   lavaan's default rotation.args (gpa.tol 1e-5), for comparison.
#   none_observed: rotation "none" with information = "observed".

suppressPackageStartupMessages(library(lavaan))

script_file <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
here <- if (length(script_file) == 1L) {
  dirname(normalizePath(script_file))
} else {
  normalizePath(file.path("tests", "reference"))
}
root <- normalizePath(file.path(here, "..", ".."))
out_args <- commandArgs(trailingOnly = TRUE)
out_json <- if (length(out_args) >= 1L) out_args[[1L]] else file.path(here, "lavaan_se.json")

SEED <- 20240601L

# ---------------------------------------------------------- JSON writer ----
json_string <- function(s) {
  s <- gsub("\\", "\\\\", s, fixed = TRUE)
  s <- gsub("\"", "\\\"", s, fixed = TRUE)
  s <- gsub("\n", "\\n", s, fixed = TRUE)
  paste0("\"", s, "\"")
}
json_atoms <- function(x) {
  if (is.character(x)) {
    ifelse(is.na(x), "null", json_string(x))
  } else if (is.logical(x)) {
    ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else if (is.numeric(x)) {
    x <- as.double(x)
    ifelse(is.finite(x), sprintf("%.17g", x), "null")
  } else {
    stop("cannot write an object of type ", typeof(x))
  }
}
to_json <- function(x, indent = 0L) {
  pad <- strrep("  ", indent + 1L)
  end <- strrep("  ", indent)
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0L) return(if (is.null(names(x))) "[]" else "{}")
    parts <- vapply(x, to_json, "", indent = indent + 1L)
    if (!is.null(names(x))) {
      stopifnot(all(nzchar(names(x))), !anyDuplicated(names(x)))
      parts <- paste0(json_string(names(x)), ": ", parts)
      return(paste0("{\n", paste0(pad, parts, collapse = ",\n"), "\n", end, "}"))
    }
    return(paste0("[\n", paste0(pad, parts, collapse = ",\n"), "\n", end, "]"))
  }
  if (is.matrix(x)) {
    rows <- apply(x, 1L, function(r) paste0("[", paste(json_atoms(r), collapse = ", "), "]"))
    return(paste0("[\n", paste0(pad, rows, collapse = ",\n"), "\n", end, "]"))
  }
  if (inherits(x, "AsIs") || length(x) != 1L) {
    return(paste0("[", paste(json_atoms(unclass(x)), collapse = ", "), "]"))
  }
  json_atoms(x)
}
M <- function(m) {
  m <- unclass(m)
  list(rownames = I(rownames(m)), colnames = I(colnames(m)), data = unname(m))
}
V <- function(x) list(names = I(names(x)), values = I(unname(x)))

# ------------------------------------------------------------------ fits ----
hs <- read.csv(file.path(root, "lvm", "datasets", "data", "holzinger_swineford_1939.csv"))
hs9 <- hs[, paste0("x", 1:9)]

blocks <- function(x) {
  list(lambda = M(x$lambda), theta = V(diag(x$theta)), psi = M(x$psi))
}

fit <- function(code) {
  set.seed(SEED)
  f <- eval(parse(text = code))
  opts <- lavInspect(f, "options")
  std_se <- lavTech(f, "std.se", add.labels = TRUE)
  ss <- standardizedSolution(f)
  se_ss <- ss$se[ss$op == "=~"]
  list(
    call = code,
    options = list(estimator = opts$estimator, likelihood = opts$likelihood,
                   information = I(opts$information), h1.information = I(opts$h1.information),
                   se = opts$se, rotation = opts$rotation, rotation.se = opts$rotation.se,
                   rotation.args = opts$rotation.args[c("orthogonal", "row.weights", "std.ov",
                                                        "geomin.epsilon", "oblimin.gamma",
                                                        "rstarts", "algorithm", "reflect",
                                                        "order.lv.by", "gpa.tol", "tol",
                                                        "max.iter")]),
    converged = lavInspect(f, "converged"),
    ntotal = lavInspect(f, "ntotal"),
    std = blocks(lavTech(f, "std", add.labels = TRUE)),
    std_se = blocks(std_se),
    std_se_equals_standardizedSolution = isTRUE(all.equal(se_ss, as.vector(std_se$lambda),
                                                          tolerance = 1e-12)),
    raw = blocks(lavTech(f, "est", add.labels = TRUE)),
    raw_se = blocks(lavTech(f, "se", add.labels = TRUE))
  )
}

efa_call <- function(rotation, args, extra = "") {
  sprintf("efa(data = hs9, nfactors = 3, rotation = \"%s\", rotation.args = %s, output = \"lavaan\"%s)",
          rotation, args, extra)
}

calls <- list(
  none = efa_call("none", "list()"),
  varimax = efa_call("varimax", "list(algorithm = \"pairwise\", tol = 1e-13, rstarts = 30L)"),
  oblimin = efa_call("oblimin", "list(oblimin.gamma = 0, algorithm = \"gpa\", gpa.tol = 1e-7, rstarts = 30L)"),
  geomin = efa_call("geomin", "list(geomin.epsilon = 0.001, algorithm = \"gpa\", gpa.tol = 1e-7, rstarts = 30L)")
)
fits <- lapply(calls, fit)

default_tol <- lapply(c(varimax = "varimax", oblimin = "oblimin", geomin = "geomin"), function(r) {
  code <- efa_call(r, "list()")
  x <- fit(code)
  list(call = code, rotation.args = x$options$rotation.args, std = x$std, std_se = x$std_se)
})
none_observed <- fit(efa_call("none", "list()", ", information = \"observed\""))

first <- eval(parse(text = calls$none))
reference <- list(
  versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                  seed = SEED),
  n = nrow(hs9),
  sample_cov = M(lavInspect(first, "sampstat")$cov),
  fits = fits,
  default_tol = default_tol,
  none_observed = list(call = none_observed$call, options = none_observed$options,
                       std_se = none_observed$std_se)
)
writeLines(to_json(reference), out_json)
cat("wrote", out_json, "\n")
