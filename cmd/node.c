/*
 * node.c - the node side of a master: the node agent on a thread of its own
 * (its own uv loop, as a component in its own process would have), and the
 * service proxy (which owns its thread itself). `picokube server` runs both
 * unless --disable-agent, the way a k3s server also runs pods.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/lib.h"
#include "nodeagent/nodeagent.h"
#include "proxy/proxy.h"

struct node_side {
    pthread_t thread;
    uv_loop_t loop;
    uv_async_t stop;
    agent_t *agent;
    proxy_t *proxy;
    struct agent_config cfg;
    char servers[512], token[256], node_name[256], node_ip[64], data_dir[1024];
    int start_rc;
    char err[512];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool started;
};

static void agent_stopped(void *arg)
{
    struct node_side *n = arg;
    uv_close((uv_handle_t *)&n->stop, NULL);
}

static void on_stop(uv_async_t *h)
{
    struct node_side *n = h->data;
    if (n->agent) {
        agent_stop(n->agent, agent_stopped, n);
    } else {
        uv_close((uv_handle_t *)&n->stop, NULL);
    }
}

static void *run(void *arg)
{
    struct node_side *n = arg;
    uv_loop_init(&n->loop);
    uv_async_init(&n->loop, &n->stop, on_stop);
    n->stop.data = n;
    n->cfg.loop = &n->loop;
    int rc = agent_start(&n->cfg, &n->agent, n->err, sizeof(n->err));
    pthread_mutex_lock(&n->mu);
    n->start_rc = rc;
    n->started = true;
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
    if (rc != 0) n->agent = NULL;
    uv_run(&n->loop, UV_RUN_DEFAULT);
    uv_loop_close(&n->loop);
    return NULL;
}

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

int node_side_start(const struct node_side_config *c, struct node_side **out, char *err,
                    size_t errlen)
{
    struct node_side *n = calloc(1, sizeof(*n));
    if (!n) return -1;
    copy(n->servers, sizeof(n->servers), c->servers);
    copy(n->token, sizeof(n->token), c->token);
    copy(n->node_name, sizeof(n->node_name), c->node_name);
    copy(n->node_ip, sizeof(n->node_ip), c->node_ip);
    copy(n->data_dir, sizeof(n->data_dir), c->data_dir);
    n->cfg.servers = n->servers;
    n->cfg.token = n->token;
    n->cfg.node_name = c->node_name ? n->node_name : NULL;
    n->cfg.node_ip = c->node_ip ? n->node_ip : NULL;
    n->cfg.data_dir = n->data_dir;
    n->cfg.port = 10250;
    n->cfg.control_plane = c->control_plane;
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    if (pthread_create(&n->thread, NULL, run, n) != 0) {
        snprintf(err, errlen, "cannot start the node agent's thread");
        free(n);
        return -1;
    }
    pthread_mutex_lock(&n->mu);
    while (!n->started) pthread_cond_wait(&n->cv, &n->mu);
    pthread_mutex_unlock(&n->mu);
    if (n->start_rc != 0) {
        snprintf(err, errlen, "node agent: %s", n->err);
        uv_async_send(&n->stop);
        pthread_join(n->thread, NULL);
        free(n);
        return -1;
    }
    char host[256];
    const char *name = c->node_name;
    if (!name) {
        gethostname(host, sizeof(host));
        host[sizeof(host) - 1] = 0;
        for (char *p = host; *p; p++) *p = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
        name = host;
    }
    struct proxy_config pc = {.api_urls = n->servers, .token = n->token, .node_name = name};
    if (proxy_start(&pc, &n->proxy) != 0) log_error("node", "the service proxy did not start");
    *out = n;
    return 0;
}

void node_side_stop(struct node_side *n)
{
    if (!n) return;
    if (n->proxy) proxy_stop(n->proxy);
    uv_async_send(&n->stop);
    pthread_join(n->thread, NULL);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cv);
    free(n);
}
