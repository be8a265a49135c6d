#include <math.h>
#include <string.h>

#include "dataset.h"
#include "spec_map.h"

void spec_model_cfg(model_cfg *m, const spec_t *s, int in_c, int in_h, int in_w, int classes) {
    memset(m, 0, sizeof *m);
    m->arch = s->model.arch;
    m->in_c = in_c, m->in_h = in_h, m->in_w = in_w, m->classes = classes;
    m->n_hidden = s->model.n_hidden;
    memcpy(m->hidden, s->model.hidden, sizeof m->hidden);
    m->n_widths = s->model.n_widths;
    memcpy(m->widths, s->model.widths, sizeof m->widths);
    m->fc = s->model.fc;
    m->batchnorm = s->model.batchnorm;
    m->base_width = s->model.base_width;
    m->depth = s->model.depth;
    m->widen = s->model.widen;
    m->alpha = s->model.alpha;
    m->block = s->model.block;
    m->block_dropout = s->model.block_dropout;
    m->dropout = s->model.dropout;
    m->bn_momentum = s->model.bn_momentum;
    m->bn_eps = s->model.bn_eps;
    m->label_smoothing = s->optim.label_smoothing;
}

int spec_model_cfg_for_data(model_cfg *m, const spec_t *s, dp_err *e) {
    int c, h, w, classes;
    int rc = dataset_shape(s, &c, &h, &w, &classes, e);
    if (!rc) spec_model_cfg(m, s, c, h, w, classes);
    return rc;
}

void spec_algo_cfg(algo_cfg *a, const spec_t *s) {
    *a = (algo_cfg){
        .kind = s->dist.algorithm,
        .tau = s->dist.tau,
        .pull = s->dist.pull,
        .push = s->dist.push,
        .push_form = s->dist.push_form,
        .push_warmup_epochs = s->dist.push_warmup,
        .moving_rate = s->dist.moving_rate,
        .qsr_beta = s->dist.qsr_beta,
        .post_local_epochs = s->dist.post_local,
        .momentum_sync = s->dist.momentum_sync,
        .push_every = s->dist.push_every,
        .pull_every = s->dist.pull_every,
        .push_schedule = s->dist.push_schedule,
        .target_spread = s->dist.target_spread,
        .target_rate = s->dist.target_rate,
        .lsgd_local = s->dist.lsgd_pull[0],
        .lsgd_global = s->dist.lsgd_pull[1],
        .lsgd_group = s->dist.lsgd_group,
        .outer_lr = s->dist.outer_lr,
        .outer_momentum = s->dist.outer_momentum,
        .outer_nesterov = s->dist.outer_nesterov,
        .ema_decay = s->run.ema_decay,
        .faults = {.drop_prob = s->dist.drop_prob,
                   .participation = s->dist.participation,
                   .straggler_prob = s->dist.straggler_prob,
                   .straggler_delay = s->dist.straggler_delay,
                   .split_from = s->dist.n_split_epochs == 2 ? s->dist.split_epochs[0] : 0,
                   .split_to = s->dist.n_split_epochs == 2 ? s->dist.split_epochs[1] : 0,
                   .seed = s->run.seed},
    };
}

void spec_sgd_cfg(sgd_cfg_t *c, const spec_t *s) {
    *c = (sgd_cfg_t){.momentum = s->optim.momentum,
                     .weight_decay = s->optim.weight_decay,
                     .nesterov = s->optim.nesterov,
                     .decoupled = s->optim.wd_mode == WD_DECOUPLED};
}

void spec_lr_schedule(lr_schedule_t *l, const spec_t *s, int64_t steps_per_epoch, int64_t total_steps) {
    memset(l, 0, sizeof *l);
    l->kind = s->optim.schedule;
    l->base_lr = s->optim.lr;
    l->min_lr = s->optim.min_lr;
    l->gamma = s->optim.gamma;
    l->n_milestones = s->optim.n_milestones;
    memcpy(l->milestones, s->optim.milestones, sizeof l->milestones);
    l->warmup_steps = llround(s->optim.warmup_epochs * steps_per_epoch);
    l->total_steps = total_steps;
    l->steps_per_epoch = steps_per_epoch;
}

void spec_sampler_cfg(sampler_cfg *c, const spec_t *s, int first, int local, int64_t steps_per_epoch) {
    *c = (sampler_cfg){.kind = s->data.partition,
                       .alpha = s->data.dirichlet_alpha,
                       .shards = s->data.shards_per_worker,
                       .workers = s->dist.workers,
                       .first = first,
                       .local = local,
                       .batch = s->optim.batch_size,
                       .steps_per_epoch = steps_per_epoch,
                       .seed = s->run.seed};
}

void spec_netmodel_cfg(netmodel_cfg *n, const spec_t *s) {
    *n = (netmodel_cfg){.kind = s->net.model,
                        .topology = s->net.topology,
                        .latency_s = 1e-6 * s->net.latency_us,
                        .bandwidth = 1e9 / 8 * (double)s->net.bandwidth_gbps};
}
